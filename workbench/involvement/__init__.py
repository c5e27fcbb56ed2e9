"""Getting involved (issue 17, items 1 and 4): a vision's "Get involved" page, with what is asked and
by when, and volunteers for the next stage: people offer to help refine the vision (ambitions,
skills, availability), facilitators see the list, export it and invite people to a working group."""
