/**
 * Listing containers (`ps`, the API's GET /containers/json): which ones (running only unless
 * `all` or a filter is given; the filters status=, name=, id=, label=, ancestor=, exited=) and
 * what a row says of each, Docker's STATUS text included.
 */
import { invalidArgument } from '../lib/errors.js';
import { ago } from '../lib/units.js';
import { dockerStatus, type ContainerRecord, type ContainerService } from './containers.js';
import { filterPairs, labelMatches, type Filters } from './filters.js';

export interface ContainerListQuery {
  /** Stopped and created containers too (a filter implies it). */
  all?: boolean;
  filters?: Filters;
}

export type PortRecord = NonNullable<ContainerRecord['PortsUp']>[number];

export interface ContainerSummary {
  Id: string;
  Name: string;
  /** As given at create (a reference), and the image's id. */
  Image: string;
  ImageID: string;
  Command: string[];
  /** RFC 3339, as the record holds it. */
  Created: string;
  State: ReturnType<typeof dockerStatus>;
  /** Docker's words: "Up 5 minutes (healthy)", "Exited (0) 2 hours ago", "Created". */
  Status: string;
  /** The published ports, as taken at start (none unless running). */
  Ports: PortRecord[];
}

const PS_FILTERS = ['status', 'name', 'id', 'label', 'ancestor', 'exited'];

/** The containers the query asks for, newest first. */
export function listContainers(svc: ContainerService, q: ContainerListQuery = {}): ContainerSummary[] {
  const pairs = filterPairs(
    q.filters,
    (f) => invalidArgument(`bad format of filter (expected name=value): ${JSON.stringify(f)}`),
    (k) => {
      if (!PS_FILTERS.includes(k)) throw invalidArgument(`invalid filter ${JSON.stringify(k)}`);
    },
  );
  const labelsOf = (c: ContainerRecord) => (svc.inspect(c.Id).Config as { Labels: Record<string, string> }).Labels;
  // Each filter must hold (berth's rule so far; Docker takes values of one key as alternatives).
  const match = (c: ContainerRecord) =>
    pairs.every(([k, v]) => {
      if (k === 'status') return dockerStatus(c.State) === v;
      if (k === 'name') return c.Name.includes(v);
      if (k === 'id') return c.Id.startsWith(v);
      if (k === 'exited') return c.State.Status === 'exited' && String(c.State.ExitCode) === v;
      if (k === 'ancestor') return c.Image === v || c.ImageID.includes(v);
      return labelMatches(labelsOf(c), v);
    });
  return svc
    .list()
    .filter((c) => (q.all || pairs.length > 0 || c.State.Status === 'running') && match(c))
    .map(summary);
}

function summary(c: ContainerRecord): ContainerSummary {
  const st = c.State;
  const health = c.Health ? (c.Health.Status === 'starting' ? ' (health: starting)' : ` (${c.Health.Status})`) : '';
  const state = dockerStatus(st);
  const status =
    st.Status === 'running'
      ? `Up ${ago(st.StartedAt).replace(/ ago$/, '')}${state === 'paused' ? ' (Paused)' : health}`
      : state === 'restarting'
        ? `Restarting (${st.ExitCode}) ${ago(st.FinishedAt || c.Created)}`
        : st.Status === 'exited'
          ? `Exited (${st.ExitCode}) ${ago(st.FinishedAt || c.Created)}`
          : 'Created';
  return { Id: c.Id, Name: c.Name, Image: c.Image, ImageID: c.ImageID, Command: c.Command, Created: c.Created, State: state, Status: status, Ports: st.Status === 'running' ? (c.PortsUp ?? []) : [] };
}
