import { Button, Tag, TagGroup, TagList } from 'react-aria-components';

interface Props {
  /** The group's name for screen readers: "Permissions of editor". */
  label: string;
  /** The visible heading above the tags (hidden from screen readers, which hear `label`). */
  heading: string;
  values: string[];
  onChange: (next: string[]) => void;
  /** Said when there are none: "No permissions." */
  empty: string;
}

/** Chosen names (permissions, scopes) as tags, each with its own Remove button. */
export function RemovableTags({ label, heading, values, onChange, empty }: Props) {
  return (
    <TagGroup aria-label={label} className="picker-tags" onRemove={(keys) => onChange(values.filter((v) => !keys.has(v)))}>
      <span className="picker-label" aria-hidden="true">{heading}</span>
      <TagList className="tags" items={values.map((v) => ({ id: v }))} renderEmptyState={() => <span className="muted">{empty}</span>}>
        {(item) => (
          <Tag id={item.id} textValue={item.id} className="tag">
            <code>{item.id}</code>
            <Button slot="remove" className="tag-remove" aria-label={`Remove ${item.id}`}>×</Button>
          </Tag>
        )}
      </TagList>
    </TagGroup>
  );
}
