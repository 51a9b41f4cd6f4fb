// The Deployment controller's public surface.
export { createDeploymentController, deploymentController } from './controller.js';
export { computeTemplateHash, equalIgnoreHash } from './hash.js';
