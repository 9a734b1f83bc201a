"""What compliance officers record beside the facts: resolutions of verdicts and approved leave,
one stream per supervisee (`decisions`), with its commands, events and errors."""
