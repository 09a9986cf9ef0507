/**
 * RFC 6749 §2.3.1 client_secret_basic: client id and secret are each application/x-www-form-urlencoded
 * (WHATWG serialisation: letters, digits and `*-._` stay as they are, space becomes `+`), joined by
 * ":" and base64-encoded. oauth4webapi's ClientSecretBasic also escapes `-`, `_`, `.` (`pre%2Dregistered`),
 * which servers that compare the id without form-decoding reject; widely used clients don't
 * (docs/remote-auth.md#client-authentication).
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
