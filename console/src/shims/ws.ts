/**
 * `ws` for the browser build. The SDK loads the `ws` package only where there is no page (Node); in the console
 * it connects with the browser's own WebSocket and authenticates with a first `hello` frame, so this module is
 * never used. It exists so that neither the bundler nor tsc needs the Node-only package.
 */
export {};
