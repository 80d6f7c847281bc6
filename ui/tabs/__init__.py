"""The app's tabs, one module each: its handlers (top-level functions taking the `Context` first, so
tests call them directly) and a `build(ctx)` that lays out its components and wires its events."""
