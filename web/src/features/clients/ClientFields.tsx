import { CheckboxGroup, Label, Radio, RadioGroup, Text } from 'react-aria-components';
import { Check } from '../../components/Check';
import { Field } from '../../components/Field';
import { PermissionPicker } from '../../components/PermissionPicker';
import {
  actsForItself, GRANT_TYPES, grantRule, signsUsersIn, withGrants, type ClientDraft, type GrantType,
} from './clientForm';
import { ScopePicker } from './ScopePicker';
import { UriListField } from './UriListField';

/** What each grant type lets the application do. */
const GRANT_WORDS: Record<GrantType, string> = {
  authorization_code: 'Signs users in: the browser comes here, then goes back with a code (PKCE)',
  refresh_token: 'Keeps users signed in (when it asks for offline_access)',
  client_credentials: 'Calls APIs as itself, with permissions of its own',
};

interface Props {
  draft: ClientDraft;
  onChange: (next: ClientDraft) => void;
  /** Registering: the type can still be chosen. */
  creating: boolean;
  /** The server's field errors. */
  fields: Record<string, string[]>;
  /** What the permission picker offers. */
  permissionChoices: { builtin: string[]; inUse: string[] };
}

/** The fields of an application; what only matters with a grant type shows with it. */
export function ClientFields({ draft, onChange, creating, fields, permissionChoices }: Props) {
  const set = (patch: Partial<ClientDraft>) => onChange({ ...draft, ...patch });
  return (
    <>
      <Field label="Name" value={draft.name} onChange={(e) => set({ name: e.target.value })} errors={fields.name}
        maxLength={100} autoComplete="off" hint="Users see it on the consent screen." required />

      <RadioGroup className="choice-group" value={draft.public ? 'public' : 'confidential'} isDisabled={!creating}
        onChange={(v) => onChange(withGrants(draft, draft.grantTypes, v === 'public'))}>
        <Label className="group-label">Type</Label>
        <Radio value="confidential" className="radio-button">
          <span className="dot" aria-hidden="true" />Confidential: runs on a server and keeps a secret
        </Radio>
        <Radio value="public" className="radio-button">
          <span className="dot" aria-hidden="true" />Public: runs in a browser or on a phone, with no secret
        </Radio>
        {!creating && <Text slot="description" className="hint">Fixed once registered: register a new application to change it.</Text>}
      </RadioGroup>
      <Errors messages={fields.public} />

      <CheckboxGroup className="choice-list" value={draft.grantTypes} onChange={(v) => onChange(withGrants(draft, v as GrantType[]))}>
        <Label className="group-label">Grant types</Label>
        {GRANT_TYPES.map((g) => {
          const why = grantRule(draft, g);
          return (
            <Check key={g} value={g} isDisabled={!!why}>
              <span><code>{g}</code> <span className="muted">{why ?? GRANT_WORDS[g]}</span></span>
            </Check>
          );
        })}
      </CheckboxGroup>
      <Errors messages={fields.grant_types} />

      {signsUsersIn(draft) && (
        <>
          <UriListField label="Redirect URIs" itemLabel="Redirect URI" values={draft.redirectUris} errors={fields.redirect_uris}
            onChange={(redirectUris) => set({ redirectUris })}
            hint="Where users come back after signing in, exactly: https, http on 127.0.0.1 or [::1], or the app's own scheme (com.example.app:/callback)." />
          <UriListField label="After signing out" itemLabel="Post-logout redirect URI" values={draft.postLogoutUris}
            errors={fields.post_logout_redirect_uris} onChange={(postLogoutUris) => set({ postLogoutUris })}
            hint="Where the application may send users after it signs them out. Optional." />
        </>
      )}

      <ScopePicker value={draft.scopes} onChange={(scopes) => set({ scopes })} errors={fields.scopes} />

      {actsForItself(draft) && (
        <PermissionPicker target="the application" value={draft.permissions} onChange={(permissions) => set({ permissions })}
          errors={fields.permissions} {...permissionChoices} />
      )}

      {signsUsersIn(draft) && (
        <div className="first-party">
          <Check isSelected={draft.preConsented} onChange={(preConsented) => set({ preConsented })}>
            First-party: skip the consent screen
          </Check>
          <p className="hint">Only for the service's own applications: users are not asked before it gets what it asks for.</p>
          <Errors messages={fields.pre_consented} />
        </div>
      )}
    </>
  );
}

function Errors({ messages }: { messages?: string[] }) {
  if (!messages?.length) return null;
  return <ul className="errors">{messages.map((m) => <li key={m}>{m}</li>)}</ul>;
}
