// The part of swagger-client (Swagger UI's spec loader) the OpenAPI test uses; the package ships no types.
declare module 'swagger-client' {
  interface ResolveResult {
    spec: { paths?: Record<string, unknown> };
    errors: unknown[];
  }
  const SwaggerClient: { resolve(options: { spec: unknown }): Promise<ResolveResult> };
  export default SwaggerClient;
}
