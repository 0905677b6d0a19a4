{{/*
Envoy's bootstrap: everything but the health listener comes from envoy-control over
ADS (LDS and CDS, with RDS and EDS through them). The node id is "envoy-<pod name>"
(--service-node): envoy-control keeps one snapshot per node and serves the edge
configuration to ids starting with "envoy".
*/}}
{{- define "moing.envoyBootstrap" -}}
{{- $fullname := include "moing.fullname" . -}}
node:
  cluster: moing-edge
admin:
  address:
    socket_address:
      address: 127.0.0.1
      port_value: {{ .Values.envoy.adminPort }}
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    set_node_on_first_message_only: true
    grpc_services:
      - envoy_grpc:
          cluster_name: envoy-control
  cds_config:
    resource_api_version: V3
    ads: {}
  lds_config:
    resource_api_version: V3
    ads: {}
static_resources:
  listeners:
    # Kubelet probes: /ready is Envoy's admin /ready (200 once the first xDS
    # configuration is in), /healthz answers while the process runs.
    - name: health
      address:
        socket_address:
          address: 0.0.0.0
          port_value: {{ .Values.envoy.healthPort }}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: health
                route_config:
                  name: health
                  virtual_hosts:
                    - name: health
                      domains: ["*"]
                      routes:
                        - match:
                            path: /ready
                          route:
                            cluster: admin
                        - match:
                            path: /healthz
                          direct_response:
                            status: 200
                            body:
                              inline_string: ok
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    # envoy-control's ADS server (gRPC, so HTTP/2).
    - name: envoy-control
      type: STRICT_DNS
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      load_assignment:
        cluster_name: envoy-control
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address:
                      address: {{ printf "%s-envoy-control.%s.svc.%s" $fullname .Release.Namespace .Values.clusterDomain }}
                      port_value: {{ .Values.envoyControl.port }}
    - name: admin
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: admin
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address:
                      address: 127.0.0.1
                      port_value: {{ .Values.envoy.adminPort }}
{{- end -}}
