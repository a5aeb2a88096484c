export { ChatSession } from "./session/ChatSession.ts";
export default { fetch: () => new Response("ok") } satisfies ExportedHandler;
