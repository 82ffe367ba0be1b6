// The contract package: the zod schemas, request signing, codecs and field errors that the service, the CLI and
// the SDK share. A leaf: it imports only zod (and the platform's WebCrypto), never another src/ folder.
export * from "./schema.ts";
export * from "./auth.ts";
export * from "./codec.ts";
export * from "./errors.ts";
