import { Hono } from "hono";
export { MarketObject } from "../durable/market.ts";
const app = new Hono<{ Bindings: Env }>();
app.get("/v1/health", (c) => c.json({ ok: true }));
export default app;
