// Worker process behaviours over the unix relay, with real PHP workers.
import { defineWorkerSuite } from "./worker-cases.ts";

defineWorkerSuite("unix");
