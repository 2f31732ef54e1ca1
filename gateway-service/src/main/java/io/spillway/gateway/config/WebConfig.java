package io.spillway.gateway.config;

import io.spillway.gateway.auth.ApiKeyInterceptor;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** API keys on {@code /v1}. */
@Configuration
class WebConfig implements WebMvcConfigurer {

  private final ApiKeyInterceptor apiKeys;

  WebConfig(ApiKeyInterceptor apiKeys) {
    this.apiKeys = apiKeys;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(apiKeys).addPathPatterns("/v1/**");
  }
}
