/**
 * The NPI check digit (CMS "Requirements for National Provider Identifier Check Digit"): the Luhn
 * formula over the 9 identifier digits prefixed with 80840, the health-industry prefix of the
 * card issuer identifier. A typo in an agency's NPI is caught when it is saved, not by a payer's
 * rejection weeks later.
 */
export function isValidNpi(npi: string): boolean {
  if (!/^[0-9]{10}$/.test(npi)) return false;
  return luhnCheckDigit(`80840${npi.slice(0, 9)}`) === Number(npi[9]);
}

/** The Luhn check digit of a string of digits (the digit to append). */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let digit = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}
