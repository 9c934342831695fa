/**
 * What the map draws in which colour: a unit by its status, a call, a technician, a job by its
 * status. One table for the tile map and the grid map, so both say the same thing.
 */
export type MarkerKind = 'self' | 'dest' | 'unit' | 'incident' | 'technician' | 'job';

const UNIT_COLOURS: Record<string, string> = {
  available: '#2e7d32', at_home: '#2e7d32', dispatched: '#ef6c00', acknowledged: '#ef6c00', en_route: '#f9a825', staged: '#f9a825',
  on_scene: '#c62828', transporting: '#6a1b9a', at_destination: '#1565c0', out_of_service: '#616161', cancelled: '#616161',
};
const JOB_COLOURS: Record<string, string> = {
  unassigned: '#616161', assigned: '#1565c0', en_route: '#f9a825', on_site: '#c62828', completed: '#2e7d32', offline: '#616161',
};

export function markerColour(kind: MarkerKind, status: string | undefined, stale = false): string {
  if (stale) return '#9e9e9e';
  switch (kind) {
    case 'self': return '#0b57d0';
    case 'dest': case 'incident': return status === 'new' ? '#b71c1c' : '#d32f2f';
    case 'unit': case 'technician': return UNIT_COLOURS[status ?? ''] ?? '#2e7d32';
    case 'job': return JOB_COLOURS[status ?? ''] ?? '#1565c0';
    default: return '#0b57d0';
  }
}
