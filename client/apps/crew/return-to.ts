/** The list a report was opened from (the calls, or the report history): the form's Back button returns there. */
let list: '' | 'history' = '';

export function rememberList(path: '' | 'history'): void {
  list = path;
}

export function backToList(): { path: '' | 'history'; label: string } {
  return { path: list, label: list === 'history' ? 'Back to report history' : 'Back to calls' };
}
