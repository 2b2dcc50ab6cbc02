// Worker process behaviours over the pipes relay, with real PHP workers.
import { defineWorkerSuite } from "./worker-cases.ts";

defineWorkerSuite("pipes");
