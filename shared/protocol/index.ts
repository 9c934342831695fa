/**
 * The wire protocol, shared by the server, the client sync library, the apps and the service
 * worker: the only owner of paths, headers, bodies, error codes and the device's HTTP client.
 * docs/protocol.md describes the same thing for people.
 */
export * from './paths.ts';
export * from './headers.ts';
export * from './identity.ts';
export * from './bodies.ts';
export * from './errors.ts';
export * from './device-settings.ts';
export * from './rejections.ts';
export * from './stream.ts';
export * from './socket-limits.ts';
export * from './http-client.ts';
export * from './dev-token.ts';
export * from './maps.ts';
export * from './attachment-settings.ts';
