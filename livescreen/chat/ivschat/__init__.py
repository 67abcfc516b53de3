"""The ``ivschat`` chat: Amazon IVS Chat rooms, their tokens and the message review handler."""
