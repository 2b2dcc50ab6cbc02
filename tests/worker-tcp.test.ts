// Worker process behaviours over the tcp relay, with real PHP workers.
import { defineWorkerSuite } from "./worker-cases.ts";

defineWorkerSuite("tcp");
