import { AUTH_ERRORS, BEARER, errorResponses, objectOf } from '../http/route-schema.ts';

/** `ADMIN.agency` and `ADMIN.putAgency` (docs/protocol.md, section 19). */
export const getAgencySchema = {
  summary: 'The agency\'s settings: NEMSIS identity, DEMDataSet content, state submission endpoint (the password never)',
  tags: ['admin'],
  security: BEARER,
  response: {
    200: objectOf('`{ settings, updatedAt }`', { settings: objectOf('The settings (docs/protocol.md §19)'), updatedAt: { type: 'string' } }, ['settings']),
    ...errorResponses({ ...AUTH_ERRORS, 404: 'The agency has no settings yet (AGENCY_NOT_CONFIGURED)' }),
  },
};

export const putAgencySchema = {
  summary: 'Replace the agency\'s settings (audited)',
  tags: ['admin'],
  security: BEARER,
  body: objectOf('The whole settings object (docs/protocol.md §19); a `stateSubmission` without `password` keeps the stored one'),
  response: {
    200: objectOf('`{ settings, updatedAt }` as saved', { settings: objectOf('The settings'), updatedAt: { type: 'string' } }, ['settings']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A setting is missing or invalid; `details` names each (INVALID_AGENCY_SETTINGS)' }),
  },
};

/** `AGENCY.deviceSettings` (docs/protocol.md, section 29). */
export const deviceSettingsSchema = {
  summary: 'The agency\'s settings its devices need (favourites per NEMSIS vocabulary, the photo size in force); nothing secret',
  tags: ['agency'],
  security: BEARER,
  response: {
    200: objectOf('`{ favourites, attachments }`', {
      favourites: objectOf('Per vocabulary, the codes offered first'),
      attachments: objectOf('`{ photoMaxEdgePx, photoMaxBytes, thumbnailEdgePx, maxUploadBytes, source }`', {
        photoMaxEdgePx: { type: 'integer' },
        photoMaxBytes: { type: 'integer' },
        thumbnailEdgePx: { type: 'integer' },
        maxUploadBytes: { type: 'integer' },
        source: { type: 'string', enum: ['agency', 'server-default'] },
      }, ['photoMaxEdgePx', 'photoMaxBytes', 'thumbnailEdgePx', 'maxUploadBytes', 'source']),
    }, ['favourites', 'attachments']),
    ...errorResponses({ ...AUTH_ERRORS, 403: 'A device credential (PUSH_ONLY_CREDENTIAL)' }),
  },
};

/** `AGENCY.billingSettings` (docs/protocol.md, section 19). */
export const billingSettingsSchema = {
  summary: 'The agency\'s billing settings the 837P claims are made from (admin, biller)',
  tags: ['agency'],
  security: BEARER,
  response: {
    200: objectOf('`{ billing, updatedAt }`; billing is null until set', { billing: { type: ['object', 'null'] }, updatedAt: { type: 'string' } }, ['billing']),
    ...errorResponses({ ...AUTH_ERRORS, 403: 'Not a role that may edit billing settings (FORBIDDEN)', 404: 'The agency has no settings yet: its admin sets its identity first (AGENCY_NOT_CONFIGURED)' }),
  },
};

/** `AGENCY.putBillingSettings` (docs/protocol.md, section 19). */
export const putBillingSettingsSchema = {
  summary: 'Replaces the agency\'s billing settings (admin, biller); the rest of its settings are kept',
  tags: ['agency'],
  security: BEARER,
  body: { type: 'object', description: 'The billing settings (docs/protocol.md section 19, `billing`)' },
  response: {
    200: objectOf('`{ billing, updatedAt }` as saved', { billing: { type: 'object' }, updatedAt: { type: 'string' } }, ['billing']),
    ...errorResponses({ ...AUTH_ERRORS, 400: 'A value is refused: `details` names each, with its path (INVALID_AGENCY_SETTINGS); nothing was changed', 403: 'Not a role that may edit billing settings (FORBIDDEN)', 404: 'The agency has no settings yet (AGENCY_NOT_CONFIGURED)' }),
  },
};
