// The global `amqp` section shared by every amqp jobs pipeline (shared/spec/plugins.md §1.1).
import * as v from "valibot";

export const AmqpTlsSchema = v.object({
  key: v.optional(v.string()),
  cert: v.optional(v.string()),
  root_ca: v.optional(v.string()),
  client_auth_type: v.optional(
    v.picklist([
      "no_client_cert",
      "request_client_cert",
      "require_any_client_cert",
      "verify_client_cert_if_given",
      "require_and_verify_client_cert",
    ]),
    "no_client_cert",
  ),
});

export const AmqpSchema = v.object({
  addr: v.optional(v.pipe(v.string(), v.nonEmpty()), "amqp://guest:guest@127.0.0.1:5672/"),
  tls: v.optional(AmqpTlsSchema),
});

export type AmqpConfig = v.InferOutput<typeof AmqpSchema>;
