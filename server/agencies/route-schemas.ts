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
