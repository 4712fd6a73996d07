//! The knowledge base's search index on local disk. See docs/kb.md for the contract.
