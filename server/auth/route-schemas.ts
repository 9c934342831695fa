import { identitySchema } from '../../shared/protocol/http-schemas.ts';
import { AUTH_ERRORS, BEARER, errorResponses, objectOf, pathParams, queryParams } from '../http/route-schema.ts';

/** Sign-in (`AUTH_BASE_PATH`, docs/protocol.md section 3) and user, device and audit administration (`ADMIN_BASE_PATH`, section 19). */

const tokenPair = objectOf('An access token (JWT) and a refresh token bound to the device', {
  accessToken: { type: 'string' },
  tokenType: { type: 'string', enum: ['Bearer'] },
  expiresIn: { type: 'integer', description: 'Seconds.' },
  expiresAt: { type: 'string', format: 'date-time' },
  refreshToken: { type: 'string' },
  refreshExpiresIn: { type: 'integer', description: 'Seconds.' },
  identity: identitySchema,
  user: objectOf('The signed-in user'),
}, ['accessToken', 'tokenType', 'expiresIn', 'expiresAt', 'refreshToken', 'refreshExpiresIn', 'identity', 'user']);

const signInErrors = {
  400: 'A body that does not match (INVALID_REQUEST)',
  401: 'Wrong credentials, or a refresh token that is unknown, expired or reused (BAD_CREDENTIALS, BAD_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED, REFRESH_TOKEN_REUSED)',
  429: 'Too many attempts (RATE_LIMITED; Retry-After)',
} as const;

export const loginResponses = { 200: tokenPair, ...errorResponses({ ...signInErrors, 403: 'The account is disabled or the device revoked (ACCOUNT_DISABLED, DEVICE_REVOKED)' }) };
export const refreshResponses = { 200: tokenPair, ...errorResponses(signInErrors) };

export const logoutSchema = {
  summary: 'End the session now',
  tags: ['auth'],
  // The access token, or none (then the body's refresh token).
  security: [...(BEARER ?? []), {}] as { [label: string]: readonly string[] }[],
  body: objectOf('Without an access token: the refresh token of the session to end.', { refreshToken: { type: 'string' } }),
  response: {
    200: objectOf('Whether a session was ended', { loggedOut: { type: 'boolean' }, message: { type: 'string' } }, ['loggedOut']),
    ...errorResponses({ 401: 'Neither a valid access token nor a refresh token (UNAUTHENTICATED)' }),
  },
};

export const meSchema = {
  summary: 'Who the token says you are',
  tags: ['auth'],
  security: BEARER,
  response: {
    200: objectOf('The identity, and when a signed token expires', { identity: identitySchema, expiresAt: { type: 'string', format: 'date-time' } }, ['identity']),
    ...errorResponses({ 401: AUTH_ERRORS[401] }),
  },
};

const user = objectOf('A user (no password)', {
  id: { type: 'string' }, tenantId: { type: 'string' }, username: { type: 'string' }, role: identitySchema.properties.role,
  unitId: { type: 'string' }, technicianId: { type: 'string' }, displayName: { type: 'string' },
  createdAt: { type: 'string', format: 'date-time' }, disabledAt: { type: 'string', format: 'date-time' },
}, ['id', 'tenantId', 'username', 'role', 'createdAt']);
const userId = pathParams({ id: { type: 'string', description: 'A user id (UUID).' } });
const deviceId = pathParams({ id: { type: 'string', description: 'A device id (1-64 letters, digits or _ . @ : -).' } });
const admin = { tags: ['admin'], security: BEARER };

export const listUsersSchema = {
  ...admin, summary: 'The agency\'s users',
  response: { 200: objectOf('Users', { users: { type: 'array', items: user } }, ['users']), ...errorResponses(AUTH_ERRORS) },
};
export const createUserResponses = {
  201: objectOf('The new user', { user }, ['user']),
  ...errorResponses({ ...AUTH_ERRORS, 400: 'A body that does not match (INVALID_REQUEST, INVALID_USER)', 409: 'The username is taken (USERNAME_TAKEN)' }),
};
const userChange = {
  200: objectOf('The user after the change', { user, sessionsRevoked: { type: 'integer' } }, ['user']),
  ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a user id, or your own account (BAD_ID, SELF_REVOKE)', 404: 'No such user in the agency (USER_NOT_FOUND)' }),
};
export const revokeUserSchema = { ...admin, summary: 'Disable an account and end its sessions', params: userId, response: userChange };
export const enableUserSchema = { ...admin, summary: 'Enable an account again', params: userId, response: userChange };

const device = objectOf('A device', { id: { type: 'string' }, revokedAt: { type: 'string', nullable: true } }, ['id']);
export const listDevicesSchema = {
  ...admin, summary: 'The agency\'s devices',
  response: { 200: objectOf('Devices', { devices: { type: 'array', items: device } }, ['devices']), ...errorResponses(AUTH_ERRORS) },
};
const deviceChange = {
  200: objectOf('The device after the change', { device, sessionsRevoked: { type: 'integer' } }, ['device']),
  ...errorResponses({ ...AUTH_ERRORS, 400: 'Not a device id (BAD_ID)' }),
};
export const revokeDeviceSchema = { ...admin, summary: 'End a device\'s sessions and refuse its sign-ins', params: deviceId, response: deviceChange };
export const enableDeviceSchema = { ...admin, summary: 'Let a device sign in again', params: deviceId, response: deviceChange };

export const auditSchema = {
  ...admin, summary: 'The audit log: PHI reads, writes, sign-ins, revocations',
  querystring: queryParams({
    documentId: { type: 'string', description: 'Entries about this document.' },
    userId: { type: 'string', description: 'Entries by this user.' },
    from: { type: 'string', description: 'ISO 8601 date-time or epoch milliseconds.' },
    to: { type: 'string', description: 'ISO 8601 date-time or epoch milliseconds.' },
    limit: { type: 'string', pattern: '^[0-9]{1,5}$', description: '1 to 1000 (default 100).' },
  }),
  response: {
    200: objectOf('Entries, newest first, each with its chain hash', { entries: { type: 'array', items: objectOf('An audit entry') } }, ['entries']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A bad filter (BAD_QUERY)' }),
  },
};
