import type { ExperimentState, FisClient } from '../operations/game-day';
import { execOk } from '../private/exec';

/** FIS through the AWS CLI in `region`, with the job's credentials. */
export function awsCliFis(region: string): FisClient {
  const aws = (...args: string[]) => (JSON.parse(execOk('aws', [...args, '--region', region, '--output', 'json'])) as { experiment: ExperimentState }).experiment;
  return {
    startExperiment: async (templateId, tags) => aws('fis', 'start-experiment', '--experiment-template-id', templateId, '--tags', Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(',')),
    getExperiment: async (id) => aws('fis', 'get-experiment', '--id', id),
  };
}
