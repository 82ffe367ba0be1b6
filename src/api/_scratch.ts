import { buildOpenApi } from "./openapi.ts";
const a = JSON.stringify(buildOpenApi()), b = JSON.stringify(buildOpenApi());
let i = 0; while (a[i] === b[i]) i++;
console.log(a.length, b.length, a.slice(i - 200, i + 100), "\n---\n", b.slice(i - 200, i + 100));
