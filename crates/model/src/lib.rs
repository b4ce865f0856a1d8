//! Domain model (see ARCHITECTURE.md).
