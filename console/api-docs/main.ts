/**
 * The configuration of the API reference at /docs: Scalar's standalone bundle (vendored from npm, loaded by the
 * page before this module) drawing the contract the server serves at /v1/openapi.yaml.
 *
 * Try-it sends to this server's /v1 with the console's signed-in key when this tab has one (sessionStorage, the
 * same origin): the key goes into Scalar's bearer field in memory only, never into a URL or persistent storage.
 * Everything that would reach beyond this server is off: default fonts, telemetry, the AI agent, MCP, the
 * developer toolbar (share/deploy to Scalar's cloud) and the "open API client" button.
 */
import { loadKey } from "../src/session.js";

/** The part of Scalar's configuration this page sets (the full type lives in @scalar/types). */
interface ScalarConfiguration {
  url: string;
  servers: { url: string; description: string }[];
  authentication?: {
    preferredSecurityScheme: string;
    securitySchemes: Record<string, { token: string }>;
  };
  persistAuth: boolean;
  withDefaultFonts: boolean;
  telemetry: boolean;
  agent: { disabled: boolean };
  mcp: { disabled: boolean };
  showDeveloperTools: "always" | "localhost" | "never";
  hideClientButton: boolean;
  documentDownloadType: "yaml" | "json" | "both" | "direct" | "none";
  defaultHttpClient: { targetKey: string; clientKey: string };
  metaData: { title: string };
}

declare global {
  interface Window {
    Scalar?: { createApiReference: (selector: string, configuration: ScalarConfiguration) => unknown };
  }
}

/** The contract's name for the API-key scheme (`components.securitySchemes`). */
const SECURITY_SCHEME = "bearerAuth";
const CONTRACT_URL = "/v1/openapi.yaml";

function configuration(key: string | null): ScalarConfiguration {
  return {
    url: CONTRACT_URL,
    // The contract lists the default local address; try-it goes to whichever server serves this page.
    servers: [{ url: `${window.location.origin}/v1`, description: "This server" }],
    ...(key === null
      ? {}
      : { authentication: { preferredSecurityScheme: SECURITY_SCHEME, securitySchemes: { [SECURITY_SCHEME]: { token: key } } } }),
    persistAuth: false,
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
    hideClientButton: true,
    documentDownloadType: "direct",
    defaultHttpClient: { targetKey: "shell", clientKey: "curl" },
    metaData: { title: "Triggers API reference" },
  };
}

const scalar = window.Scalar;
if (scalar === undefined) {
  throw new Error("the API reference bundle did not load");
}
scalar.createApiReference("#reference", configuration(loadKey()));
