// The queue drivers rr ships. Brokers with heavy client libraries load on first use.
import type { DriverFactory } from "../types.ts";
import { memoryDriverFactory } from "./memory.ts";

export const amqpDriverFactory: DriverFactory = {
  name: "amqp",
  create: async (pipeline, ctx) => new (await import("./amqp.ts")).AmqpDriver(pipeline, ctx),
};

/** Every driver by `driver:` name; more brokers (beanstalk, nats, sqs, kafka) slot in here. */
export const DRIVERS: readonly DriverFactory[] = [memoryDriverFactory, amqpDriverFactory];
