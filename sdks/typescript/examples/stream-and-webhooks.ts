// A stream consumer that survives restarts, and a webhook receiver on node:http.
import { createServer } from "node:http";
import { readFile, writeFile } from "node:fs/promises";

import { TriggersClient, type StreamResetNotice } from "@zapier-triggers/sdk";
import { Webhook, WebhookVerificationError } from "@zapier-triggers/sdk/webhooks";

const client = new TriggersClient();

export async function follow(cursorFile: string, signal: AbortSignal): Promise<void> {
  const lastEventId = await readFile(cursorFile, "utf8").catch(() => undefined);
  const stream = client.events.stream(
    { types: ["order.*"] },
    {
      lastEventId,
      signal,
      onReset: (notice: StreamResetNotice) => console.warn(`gap: ${notice.reason}, resuming at ${notice.oldestSequence}`),
    },
  );
  for await (const event of stream) {
    console.log(event.sequence, event.type, event.data);
    if (stream.lastEventId !== null) await writeFile(cursorFile, stream.lastEventId);
  }
}

export function webhookServer(secret: string) {
  const webhook = new Webhook(secret);
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        const payload = webhook.verify<{ type: string; data: unknown }>(Buffer.concat(chunks), req.headers);
        console.log("verified", payload.type);
        res.writeHead(204).end();
      } catch (error) {
        res.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end();
      }
    });
  });
}
