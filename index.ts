import * as pulumi from '@pulumi/pulumi';
import { programFor } from './stacks';

// Pulumi runs this module's exported function; the stack name selects the layer's program.
export = programFor(pulumi.getStack());
