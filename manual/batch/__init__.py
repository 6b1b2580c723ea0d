"""The batch stack: any dense network, mini-batches, Keras's losses and optimizers."""
