def render_email_html(env, ctx, settings):
    raise NotImplementedError
