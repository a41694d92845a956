// CDK entry point (cdk.json): synthesizes the sensor's stacks with real esbuild bundles.
import { buildSensorApp } from './sensor-app.ts';

buildSensorApp().app.synth();
