import { expectTypeOf } from "vitest";
type Status = { status: "running" | "paused" };
expectTypeOf<Status>().toEqualTypeOf<{ status: string }>();
