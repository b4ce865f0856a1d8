//! Server library (see ARCHITECTURE.md).
