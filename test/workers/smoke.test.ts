import { env, SELF } from "cloudflare:test";
import { expect, test } from "vitest";
test("health", async () => {
  const r = await SELF.fetch("http://x/v1/health"); expect(r.status).toBe(200);
  expect(await env.MARKET.getByName("a").ping()).toBe("pong");
});
