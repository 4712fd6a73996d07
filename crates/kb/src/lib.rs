//! The knowledge base (知识库) without I/O. See docs/kb.md for the contract.
