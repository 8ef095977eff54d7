from thrive.cli.main import app

app(prog_name="thrive")
