/// The OpenAPI document of the HTTP API (`protocol/openapi.yaml`), compiled in.
enum OpenAPIDocument {}
