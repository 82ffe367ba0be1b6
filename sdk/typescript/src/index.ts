// The NASH TypeScript SDK: typed client, agent keys, signing and the settlement stream. Types come from the
// service's own zod contract (src/contract/). Node-only helpers (key files) are in "./node.ts".
export { NashClient, NashError, backoffMs, type ClientOptions, type IntentDraft, type RetryPolicy } from "./client.ts";
export { subscribe, streamUrl, type SubscribeOptions, type Subscription } from "./stream.ts";
export { generateKey, keyFromSeed, parseKey, keyToJson, type AgentKey } from "./keys.ts";
export { deferral, isoTime, later, window, type Window } from "./time.ts";
export { signRequest, signingString, bodyHash, fieldErrors, type FieldError } from "../../../src/contract/index.ts";
// The contract's schemas, as values (`IntentInput.safeParse(x)`) and as their inferred types.
export {
  CancelAnswer,
  CommitmentsAnswer,
  IntentInput,
  IntentView,
  MarketConfig,
  MarketEvent,
  type StreamEventType,
  MarketView,
  ModelAnswer,
  ProblemDetails,
  ProposalAnswer,
  ProposalBody,
  ProposalsAnswer,
  RevealAnswer,
  RevealBody,
  Settlement,
  SubmitAnswer,
  TrainingExampleView,
} from "../../../src/contract/index.ts";
