// Only for `npm run bench:load -- --only floor`: a worker that does nothing, to measure what `wrangler dev` itself
// gives at the load's rate on this machine (its proxy workerd, the runtime, the load generator on the same cores).
// It reads each body and answers at once, 201 to a POST as to an accepted submit, 200 to anything else.
export default {
  async fetch(request: Request): Promise<Response> {
    const post = request.method === "POST";
    if (post) await request.text();
    return new Response('{"ok":true}', { status: post ? 201 : 200, headers: { "content-type": "application/json" } });
  },
};
