package io.spillway.gateway.config;

import io.spillway.gateway.auth.ApiKeyInterceptor;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.AsyncSupportConfigurer;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** API keys on {@code /v1}; streams bounded by the gateway's request timeout, not the container's 30 s. */
@Configuration
class WebConfig implements WebMvcConfigurer {

  private final ApiKeyInterceptor apiKeys;
  private final SpillwayProperties properties;

  WebConfig(ApiKeyInterceptor apiKeys, SpillwayProperties properties) {
    this.apiKeys = apiKeys;
    this.properties = properties;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(apiKeys).addPathPatterns("/v1/**");
  }

  @Override
  public void configureAsyncSupport(AsyncSupportConfigurer configurer) {
    // A stream ends itself at the request timeout; the margin lets it write its error chunk first.
    configurer.setDefaultTimeout(properties.gateway().requestTimeout().plusMinutes(1).toMillis());
  }
}
