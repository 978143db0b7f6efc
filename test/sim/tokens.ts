import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims the simulated Entra ID puts in a token, as a real access token carries them. */
export interface SimClaims {
  aud: string;
  tid: string;
  oid: string;
  upn: string;
  exp: number;
}

export const AKS_SERVER_APP_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** A JWT-shaped token signed with HMAC, so the fakes can tell theirs from a forged or stale one. */
export function issueToken(secret: string, claims: SimClaims): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

export function verifyToken(secret: string, token: string): SimClaims | undefined {
  const [head, body, sig] = token.split('.');
  if (!head || !body || !sig) return undefined;
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SimClaims;
  if (claims.exp * 1000 < Date.now()) return undefined;
  return claims;
}
