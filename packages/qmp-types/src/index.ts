// Placeholder until the generator (issue 5) writes the baseline; replaced by generated output.
export interface QmpCommands {}
export interface QmpEvents {}
