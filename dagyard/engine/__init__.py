"""The engine: turns a PipelineSpec and parameters into task records and drives them to
a terminal state, through the metadata store and an executor (see DESIGN.md)."""
