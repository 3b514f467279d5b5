// The step after something is shown only once (recovery codes, an application's secret):
// the page does not move on until the person says they have kept it.

export interface ShownOnceStep {
  /** The "I have saved it" box. */
  saved: boolean;
  /** Set when they tried to go on without ticking it. */
  nudged: boolean;
  /** Set once they went on: what was shown is forgotten. */
  finished: boolean;
}

export type ShownOnceAction = { type: 'saved'; saved: boolean } | { type: 'finish' };

export const initialShownOnce: ShownOnceStep = { saved: false, nudged: false, finished: false };

export function shownOnceReducer(state: ShownOnceStep, action: ShownOnceAction): ShownOnceStep {
  switch (action.type) {
    case 'saved':
      return { ...state, saved: action.saved, nudged: state.nudged && !action.saved };
    case 'finish':
      // Not before the box is ticked: say why instead.
      return state.saved ? { ...state, finished: true, nudged: false } : { ...state, nudged: true };
  }
}
