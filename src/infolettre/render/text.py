def render_text(env, ctx):
    raise NotImplementedError
