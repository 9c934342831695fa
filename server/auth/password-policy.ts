/**
 * What a new password must be (ASVS 4.0 L2, 2.1.1 and 2.1.7; NIST SP 800-63B 5.1.1.2): at least 12
 * characters, at most 200, and not one of the commonly used passwords. The list is data shipped by
 * a maintained package (@zxcvbn-ts/language-common, 49,233 passwords from breach corpora), not
 * typed here. The policy applies when a password is set; a user whose older, shorter password was
 * set before it still signs in with it (sign-in checks only the hash).
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

let common: Promise<ReadonlySet<string>> | undefined;

/** The list, loaded on first use (about 0.2 s): servers that never set a password never pay for it. */
function commonPasswords(): Promise<ReadonlySet<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common']));
  return common;
}

/** What is wrong with a new password, as phrases for an error message; empty when it is acceptable. */
export async function passwordProblems(password: unknown, username?: string): Promise<string[]> {
  if (typeof password !== 'string') return ['password must be a string'];
  // Characters as a person counts them (code points), as ASVS 2.1.1 asks, not UTF-16 units.
  const length = [...password.normalize('NFC')].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    return [`password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters (got ${length})`];
  }
  const lower = password.toLowerCase();
  if (username !== undefined && lower === username.toLowerCase()) return ['password must not be the username'];
  if ((await commonPasswords()).has(lower)) return ['password is one of the most commonly used passwords; choose another (a few unrelated words make a long one that is easy to remember)'];
  return [];
}
