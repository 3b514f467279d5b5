from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def hello(request):
    # IsAuthenticated (the default permission) has let only valid tokens through.
    return Response({"user_id": request.user.id, "username": request.user.username})
