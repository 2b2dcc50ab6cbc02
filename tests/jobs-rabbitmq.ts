// RabbitMQ for the jobs tests: use the broker on 127.0.0.1:5672 when it runs (scripts/setup.sh --test
// starts it), else start one and stop it again afterwards. Also: restart the broker app, delete queues.
import { execFileSync, spawnSync } from "node:child_process";
import { connect as tcpConnect } from "node:net";
import * as amqp from "amqplib";

export const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface Broker {
  /** Stop the broker if this helper started it. */
  release(): Promise<void>;
}

export async function ensureRabbit(): Promise<Broker> {
  if (await portOpen(5672)) return { release: () => Promise.resolve() };
  const found = spawnSync("sh", ["-c", "command -v rabbitmq-server"], { encoding: "utf8" });
  if (found.status !== 0) {
    throw new Error("RabbitMQ is not installed: run `bash scripts/setup.sh --test` (it installs rabbitmq-server)");
  }
  execFileSync("rabbitmq-server", ["-detached"], { stdio: "ignore" });
  const deadline = Date.now() + 90_000;
  while (!(await portOpen(5672))) {
    if (Date.now() > deadline) throw new Error("RabbitMQ did not start listening on 5672 within 90 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  execFileSync("rabbitmqctl", ["-q", "await_startup"], { stdio: "ignore", timeout: 60_000 });
  return {
    release: () => {
      spawnSync("rabbitmqctl", ["-q", "stop"], { stdio: "ignore", timeout: 60_000 });
      return Promise.resolve();
    },
  };
}

/** Stop and start the broker application (drops every connection; durable queues survive). */
export function restartBrokerApp(): void {
  execFileSync("rabbitmqctl", ["-q", "stop_app"], { stdio: "ignore", timeout: 60_000 });
  execFileSync("rabbitmqctl", ["-q", "start_app"], { stdio: "ignore", timeout: 60_000 });
}

/** Delete test queues and exchanges (ignores missing ones). */
export async function deleteQueues(queues: string[], exchanges: string[] = []): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    for (const q of queues) {
      const ch = await conn.createChannel();
      ch.on("error", () => undefined);
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    for (const x of exchanges) {
      const ch = await conn.createChannel();
      ch.on("error", () => undefined);
      await ch.deleteExchange(x).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Messages ready in a queue. */
export async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close().catch(() => undefined);
  }
}
