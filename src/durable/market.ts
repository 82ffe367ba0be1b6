import { DurableObject } from "cloudflare:workers";
export class MarketObject extends DurableObject<Env> {
  async ping(): Promise<string> { return "pong"; }
}
