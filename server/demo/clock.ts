/** Demo times: minutes before the seed's clock, written with the server's local offset (never `Z`). */
import { offsetDateTime } from '../hooks/workflows/support.ts';

export function minutesAgo(now: Date, minutes: number): string {
  return offsetDateTime(new Date(now.getTime() - minutes * 60_000));
}
